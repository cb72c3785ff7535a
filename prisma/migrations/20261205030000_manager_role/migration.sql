-- Managers read what viewers read and also export and schedule reports.
ALTER TYPE "Role" ADD VALUE 'manager';
