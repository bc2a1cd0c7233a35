/* shape reference: to be written */
