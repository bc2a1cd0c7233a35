/* adam reference: to be written */
