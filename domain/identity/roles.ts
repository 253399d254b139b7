/**
 * Who may act: the roles (Cognito groups) and the caller a use case is given.
 *
 * The manifest, the authorizer and the use cases all read these; they live in domain/ because a
 * use case's authorisation (role and ownership) is a business rule, not an HTTP detail.
 */
export const ROLES = ['client', 'partner', 'sales', 'retention', 'compliance', 'finance', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const STAFF_ROLES = ROLES.filter((r) => r !== 'client' && r !== 'partner') as Exclude<Role, 'client' | 'partner'>[];
/** Roles (Cognito groups) of the clients pool; STAFF_ROLES are the staff pool's. */
export const CLIENT_ROLES = ROLES.filter((r) => r === 'client' || r === 'partner') as Extract<Role, 'client' | 'partner'>[];

/** The authenticated principal a use case acts for (built by the HTTP edge from verified token claims). */
export interface Caller {
  sub: string;
  email: string;
  roles: Role[];
  isStaff: boolean;
}
