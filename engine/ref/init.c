/* init reference: to be written */
