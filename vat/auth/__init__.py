"""Users, server-side sessions, roles, scope, the deny-by-default policy and TOTP."""
