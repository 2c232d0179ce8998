/* The user's request to stop (Ctrl-C), as a flag that long-running C code
 * (the training loop) polls between steps. Set from a signal handler, so it
 * is a plain sig_atomic_t; nothing else happens in the handler.
 *
 * How the program (src/cli) turns Ctrl-C into a stop:
 * - normally it sets the flag AND makes the running Lua code raise
 *   "interrupted!" at its next step (so a Lua loop stops);
 * - inside a polling region (below) it only sets the flag: the C loop that
 *   opened the region stops by itself at its next check and returns
 *   normally (fit returns the history so far), and Lua callbacks it runs
 *   meanwhile are not broken by an "interrupted!" error. A second Ctrl-C
 *   before the loop has seen the first raises "interrupted!" anyway, so a
 *   stuck Lua callback can still be stopped.
 * - a C loop that handled the request clears the flag; a pending
 *   "interrupted!" is then dropped. */
#ifndef NNL_INTERRUPT_H
#define NNL_INTERRUPT_H

/* Marks that the user asked to stop. Async-signal-safe. */
void nnl_interrupt_request(void);
/* Whether a stop was requested since the last clear. Async-signal-safe. */
int nnl_interrupt_requested(void);
/* Forgets a request (before starting new work, or once handled). */
void nnl_interrupt_clear(void);

/* Brackets C code that polls nnl_interrupt_requested() and stops cleanly
 * on its own (the training loop). Regions nest; every begin needs its end
 * (also on error paths). Not for signal handlers. */
void nnl_interrupt_polling_begin(void);
void nnl_interrupt_polling_end(void);
/* Whether such code is running. Async-signal-safe. */
int nnl_interrupt_polling(void);

#endif
