-- A reopened incident notifies its channels again. Its notifications after
-- a reopen carry the page_key 'reopen <n>' (n counts the reopens), so that
-- each open and resolve of the incident reaches a channel once.
ALTER TABLE "notification_delivery" DROP CONSTRAINT "notification_delivery_event_check";
ALTER TABLE "notification_delivery" ADD CONSTRAINT "notification_delivery_event_check"
    CHECK ("event" IN ('opened', 'reopened', 'resolved', 'test', 'escalation'));
