#ifndef RV_TRACE_H
#define RV_TRACE_H

#include <stdio.h>

struct rv_hart;
struct rv_tracer;

struct rv_tracer *rv_tracer_new(FILE *out);
void rv_tracer_finish(struct rv_hart *h);
void rv_tracer_free(struct rv_tracer *t);

#endif
