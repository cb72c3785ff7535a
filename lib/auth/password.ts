import bcrypt from "bcryptjs";

// bcrypt with cost 12: about a quarter of a second per hash on one core of
// the development machine, slow enough to make offline guessing expensive.
const BCRYPT_COST = 12;

export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export function verifyPassword(
  password: string,
  passwordHash: string,
): Promise<boolean> {
  return bcrypt.compare(password, passwordHash);
}
