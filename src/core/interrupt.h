/* The user's request to stop (Ctrl-C), as a flag that long-running C code
 * (the training loop) polls between steps. Set from a signal handler, so it
 * is a plain sig_atomic_t; nothing else happens in the handler. */
#ifndef NNL_INTERRUPT_H
#define NNL_INTERRUPT_H

/* Marks that the user asked to stop. Async-signal-safe. */
void nnl_interrupt_request(void);
/* Whether a stop was requested since the last clear. */
int nnl_interrupt_requested(void);
/* Forgets a request (before starting new work). */
void nnl_interrupt_clear(void);

#endif
