/* heat.i: explicit 1-D heat equation on a periodic rod of N cells, split among the ranks */
func heat(n, nsteps, every)
{
  if (mp_exec()) {
    mp_exec, swrite(format="heat, %d, %d, %d", n, nsteps, every);
    return;
  }
  m = n / mp_size;
  left = (mp_rank + mp_size - 1) % mp_size;
  right = (mp_rank + 1) % mp_size;
  x = (mp_rank * m + indgen(0:m+1) - 0.5) / n;
  u = sin(2*pi*x) + 0.5*cos(6*pi*x) + exp(-200.*(x-0.3)^2);
  r = 0.25;
  if (!mp_rank) f = create("heat.log");
  for (step = 1; step <= nsteps; ++step) {
    mp_send, left, u(2);
    mp_send, right, u(-1);
    u(0) = mp_recv(right);
    u(1) = mp_recv(left);
    u(2:-1) += r * (u(3:0) - 2.*u(2:-1) + u(1:-2));
    if (step % every == 0) {
      s = mp_handin(sum(u(2:-1)));
      q = mp_handin(sum(u(2:-1)^2));
      if (!mp_rank) {
        write, format="step %d sum %.17g sumsq %.17g\n", step, s, q;
        write, f, format="%d %.17g %.17g\n", step, s, q;
        fflush, f;
      }
    }
  }
  /* rank 0 collects the slabs and writes the final field */
  if (mp_rank) {
    mp_send, 0, u(2:-1);
  } else {
    all = u(2:-1);
    for (k = 1; k < mp_size; ++k) grow, all, mp_recv(k);
    g = create("heat.out");
    write, g, format="%.17g\n", all;
    close, g;
    close, f;
    write, format="done %d cells %d steps\n", n, nsteps;
  }
  mp_handin;
}

