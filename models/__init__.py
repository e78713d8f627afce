"""Model families (autoarm, igr, dpidm, garment_transfer, mgvton), shared blocks and the training driver."""
