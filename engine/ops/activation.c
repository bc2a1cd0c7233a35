/* activation ops: to be written */
