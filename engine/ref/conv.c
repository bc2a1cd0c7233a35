/* conv reference: to be written */
