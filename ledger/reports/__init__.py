"""What the ledger says, read from postings and sub-ledger records: one module per report."""
