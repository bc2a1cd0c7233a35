/* dataset: being written */
