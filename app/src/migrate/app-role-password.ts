import type pg from 'pg';
import type { AppRoleLogin } from '../config/app-config.js';
import type { DatabaseSettings } from '../config/database-settings.js';
import { APP_ROLE, setAppRolePassword } from '../db/app-role.js';
import { explainDatabaseError } from '../db/explain-error.js';

export { APP_ROLE, type AppRoleLogin };

/** APP_DB_PASSWORD could not be applied; the migrations themselves were applied. */
export class AppRolePasswordError extends Error {
  override readonly name = 'AppRolePasswordError';
}

/** The migrating role needs CREATEROLE (RDS's master user has it) to set another role's password. */
export async function enableAppRole(
  client: pg.Client,
  login: AppRoleLogin,
  settings: DatabaseSettings,
): Promise<void> {
  try {
    await setAppRolePassword(client, login.user, login.password);
  } catch (error) {
    throw new AppRolePasswordError(
      `APP_DB_PASSWORD is set, but user "${settings.user}" could not set the password of role ${login.user} (APP_DB_USER, a member of ${APP_ROLE}; the migrations were applied): ${explainDatabaseError(error, settings)} Run migrate as a user with CREATEROLE (the RDS master user), or unset APP_DB_PASSWORD.`,
      { cause: error },
    );
  }
}
