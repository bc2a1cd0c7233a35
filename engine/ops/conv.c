/* conv ops: to be written */
