#ifndef SGAD_TOOLS_DATAFILE_H
#define SGAD_TOOLS_DATAFILE_H

/* Path of one of the tools' data files (beside the program, else installed). */
const char *sgad_data_file(const char *name);

#endif
