/* adam ops: to be written */
