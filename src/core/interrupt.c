/* The Ctrl-C flag: see interrupt.h. */
#include "core/interrupt.h"

#include <signal.h>

/* Written by the signal handler, read by the loops: sig_atomic_t. */
static volatile sig_atomic_t requested;

void nnl_interrupt_request(void) { requested = 1; }
int nnl_interrupt_requested(void) { return requested != 0; }
void nnl_interrupt_clear(void) { requested = 0; }
