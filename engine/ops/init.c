/* init ops: to be written */
