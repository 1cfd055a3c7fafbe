/* page.h: the report's HTML page (sensi report's DIR/index.html). */
#ifndef SENSI_PAGE_H
#define SENSI_PAGE_H

#include <stdio.h>

#include "../analysis/analysis.h"
#include "figures.h"

/* Write the page to f: title, the claims table (claims cl, ncl), each
 * figure of fig (nfig; those not drawn say what is missing), the tables of
 * the analysed databases d (nd, from paths), the specs (read from the
 * databases at paths) and the versions (sensi's version, the BLAS). The
 * figures' files are referenced relative to the page. */
void page_write(FILE *f, const char *title, const char *version, char **paths, int nd,
                const an_db *d, const an_claim *cl, int ncl, const figure *fig, int nfig);

#endif
