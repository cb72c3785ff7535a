-- The time of the newest Send now of each report schedule, so that the API
-- can limit test mails to one per schedule per minute.
CREATE TABLE "report_schedule_test_send" (
    "schedule_id" INTEGER NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "report_schedule_test_send_pkey" PRIMARY KEY ("schedule_id")
);
