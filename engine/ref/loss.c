/* loss reference: to be written */
