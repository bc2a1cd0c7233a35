/* batchnorm ops: to be written */
