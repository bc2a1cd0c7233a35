/* linear reference: to be written */
