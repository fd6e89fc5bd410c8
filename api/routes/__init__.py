"""One router per audience: staff, admin, supervision, public, log."""
