"""The opt-in DICOM node: send results to a configured node (C-STORE SCU) and receive films (C-STORE SCP).

Nothing here runs unless a node is configured: importing it opens no socket, and the app's default stays
network-free. pynetdicom does the protocol; this package only adds timeouts, refusals and messages."""
