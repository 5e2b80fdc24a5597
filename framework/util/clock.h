/* clock.h - time in the two senses the framework needs: monotonic
 * milliseconds for timeouts and intervals, wall-clock seconds (double) for
 * what is stored and shown (task created/started/finished). */
#ifndef SL_CLOCK_H
#define SL_CLOCK_H

#include <stdint.h>

int64_t sl_mono_ms(void);
int64_t sl_mono_us(void);
double sl_wall(void); /* seconds since the epoch, microsecond resolution */
void sl_sleep_ms(int64_t ms);

#endif
