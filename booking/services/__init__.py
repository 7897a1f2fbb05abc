"""Services: the verbs of the system. They check permission, call the domain, write models and
flush; the caller (a request, a CLI command) commits once at the edge."""
