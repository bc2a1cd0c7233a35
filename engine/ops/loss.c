/* loss ops: to be written */
