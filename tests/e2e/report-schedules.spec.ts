import { simpleParser } from "mailparser";

import { hashPassword } from "@/lib/auth/password";
import { startSmtpPeer, type SmtpPeer } from "@/tests/support/notification-peers";

import { expect, login, test } from "./support/fixtures";
import type { E2eUser } from "./support/state";

// Scheduled reports in the browser. A manager creates a weekly schedule on
// the /reports page and sends it now, so the SMTP server on 127.0.0.1
// receives the mail with the PDF and CSVs. A viewer sees no schedules.

const MANAGER: E2eUser = {
  email: "manager@schedules-e2e.test",
  password: "manager-password-2026",
  name: "Mila Manager",
};
const SMTP_USER = "e2e-report-mailer";
const SMTP_PASSWORD = "e2e-report-smtp-password";

let smtp: SmtpPeer;

test.beforeAll(async () => {
  smtp = await startSmtpPeer(SMTP_USER, SMTP_PASSWORD);
});

test.afterAll(async () => {
  await smtp.close();
});

test("manager schedules a report and sends it now", async ({ page, db }) => {
  await db.query(
    `INSERT INTO user_account (email, name, password_hash, role)
     VALUES ($1, $2, $3, 'manager')
     ON CONFLICT (email) DO UPDATE SET role = 'manager', password_hash = EXCLUDED.password_hash`,
    [MANAGER.email, MANAGER.name, await hashPassword(MANAGER.password)],
  );
  await db.query(
    `INSERT INTO notification_channel (name, type, config, secret_config)
     VALUES ('Report mail e2e', 'email', $1, $2)
     ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, secret_config = EXCLUDED.secret_config`,
    [
      JSON.stringify({
        host: smtp.host,
        port: smtp.port,
        secure: false,
        username: SMTP_USER,
        from: "vigil@example.test",
        to: ["managers@example.test"],
      }),
      JSON.stringify({ password: SMTP_PASSWORD }),
    ],
  );
  await db.query("DELETE FROM report_schedule WHERE name = 'Weekly for the board'");

  await login(page, MANAGER);
  await page.goto("/reports");
  const section = page.getByTestId("report-schedules");
  await expect(section.getByRole("heading", { name: "Scheduled reports" })).toBeVisible();

  const form = section.getByRole("form", { name: "New schedule" });
  await form.getByLabel("Name").fill("Weekly for the board");
  await form.getByLabel("Cadence").selectOption("weekly");
  await form.getByLabel("Day").selectOption("1");
  await form.getByLabel("Time", { exact: true }).fill("08:30");
  await form.getByLabel("Time zone").fill("Europe/Berlin");
  await form.getByLabel("Checkout API").check();
  await form.getByLabel("Report mail e2e").check();
  await form.getByRole("button", { name: "Create schedule" }).click();
  await expect(form.getByRole("status")).toHaveText('Scheduled "Weekly for the board".');

  const row = section.getByRole("listitem").filter({ hasText: "Weekly for the board" });
  await expect(row).toContainText("Mondays at 08:30 (Europe/Berlin)");
  await expect(row).toContainText("PDF and CSV to Report mail e2e");
  await expect(row).toContainText("Next run:");

  const before = smtp.mails.length;
  await row.getByRole("button", { name: "Send now" }).click();
  await expect(row.getByRole("status")).toContainText("through 1 channel.");
  expect(smtp.mails.length).toBe(before + 1);

  const mail = await simpleParser(smtp.mails.at(-1)!.raw);
  expect(mail.subject).toContain('"Weekly for the board"');
  const names = mail.attachments.map((file) => file.filename ?? "");
  expect(names.filter((name) => name.endsWith(".pdf"))).toHaveLength(1);
  expect(names.filter((name) => name.startsWith("vigil-reliability-") && name.endsWith(".csv"))).toHaveLength(1);
  expect(names.filter((name) => name.startsWith("vigil-incidents-") && name.endsWith(".csv"))).toHaveLength(1);
  const csv = mail.attachments.find((file) => file.filename?.startsWith("vigil-reliability-") && file.filename.endsWith(".csv"))!;
  expect(csv.content.toString("utf8")).toContain("checkout");

  // The page fits a phone without sideways scrolling.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.reload();
  await expect(section.getByRole("heading", { name: "Scheduled reports" })).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("viewer sees no report schedules", async ({ page, state }) => {
  await login(page, state.users.viewer);
  await page.goto("/reports");
  await expect(page.getByRole("heading", { name: "Reports", level: 1 })).toBeVisible();
  await expect(page.getByText("Scheduled reports")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Create schedule" })).toHaveCount(0);
});
