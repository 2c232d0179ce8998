/* The Ctrl-C flag and the polling regions: see interrupt.h. */
#include "core/interrupt.h"

#include <signal.h>

/* Written by the signal handler, read by the loops: sig_atomic_t. */
static volatile sig_atomic_t requested;
/* Depth of polling regions; changed only outside signal handlers. */
static volatile sig_atomic_t polling;

void nnl_interrupt_request(void) { requested = 1; }
int nnl_interrupt_requested(void) { return requested != 0; }
void nnl_interrupt_clear(void) { requested = 0; }

void nnl_interrupt_polling_begin(void) { polling = polling + 1; }
void nnl_interrupt_polling_end(void)
{
    if (polling > 0)
        polling = polling - 1;
}
int nnl_interrupt_polling(void) { return polling > 0; }
