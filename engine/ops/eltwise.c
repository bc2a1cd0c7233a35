/* eltwise ops: to be written */
