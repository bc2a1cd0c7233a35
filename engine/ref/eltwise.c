/* eltwise reference: to be written */
