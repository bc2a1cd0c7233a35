/* shape ops: to be written */
