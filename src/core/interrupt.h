/* The user's request to stop (Ctrl-C), as a flag that long-running C code
 * polls between steps (the training loop after each batch, a wait on
 * gnuplot). Set from a signal handler, so it is a plain sig_atomic_t;
 * nothing else happens in the handler.
 *
 * Who sets it: the program's SIGINT handler (src/cli), which also makes the
 * running Lua code raise "interrupted!" at its next step; and fit's own
 * handler (src/bind/lnn_model_fit.c), installed for the duration of fit,
 * which only sets the flag, so the loop stops after the batch and returns
 * the history so far (a second Ctrl-C before it has seen the first goes to
 * the program's handler). Code that handled a request clears the flag. */
#ifndef NNL_INTERRUPT_H
#define NNL_INTERRUPT_H

/* Marks that the user asked to stop. Async-signal-safe. */
void nnl_interrupt_request(void);
/* Whether a stop was requested since the last clear. Async-signal-safe. */
int nnl_interrupt_requested(void);
/* Forgets a request (before starting new work, or once handled). */
void nnl_interrupt_clear(void);

#endif
