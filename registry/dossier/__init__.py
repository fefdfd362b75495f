"""The signed, verifiable dossier of one list for the centraal stembureau (issue 6).

services.py builds it, verify.py checks it (standard library and ``cryptography`` only, runnable on
its own), cli.py and routes.py offer both on the command line and as a download.
"""
