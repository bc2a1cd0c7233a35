/* batchnorm reference: to be written */
