"""The ``caseledger`` command line (Typer): the organisation folder's jobs, the signing client,
the log and witness commands. It drives the service only through ``api``'s public functions."""
