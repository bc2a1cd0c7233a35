/* activation reference: to be written */
