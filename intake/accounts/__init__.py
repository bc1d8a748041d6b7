"""Staff accounts: users, roles, login with a second factor, inbox memberships."""
