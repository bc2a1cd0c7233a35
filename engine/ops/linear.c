/* linear ops: to be written */
