"""Student photos and proof documents: content checks, a hash-addressed store under the data
folder, the service that records them, and the scoped, audited upload/download views."""
