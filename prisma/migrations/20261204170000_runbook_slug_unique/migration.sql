-- CreateIndex
CREATE UNIQUE INDEX "runbook_slug_key" ON "runbook"("slug");
