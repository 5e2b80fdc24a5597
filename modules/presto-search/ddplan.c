/* ddplan.c - DM plan generation (see ddplan.h).
 *
 * Smearing budget at a DM with effective sample time dt: the sample itself,
 * the dispersion across one channel (2 K DM dnu / f^3), half a DM step across
 * the whole band, and half a pass of DMs across one subband; they add in
 * quadrature. A step ends where channel smearing reaches twice its sample
 * time: beyond that, halving the time resolution loses almost nothing and
 * halves the work, which is why DDplan down-samples. DM steps come from
 * PRESTO's list of round values. */
#include "ddplan.h"

#include <math.h>
#include <string.h>

#include "dispersion.h"

static const double allowed_steps[] = {0.01, 0.02, 0.03, 0.05, 0.1,  0.2,  0.3,   0.5,   1.0,  2.0,
                                       3.0,  5.0,  10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 300.0};

double ddplan_dm_step(double dt, double flo, double fhi)
{
    double per_dm = DISPERSION_K * (1.0 / (flo * flo) - 1.0 / (fhi * fhi));
    double best = allowed_steps[0];
    for (size_t i = 0; i < sizeof allowed_steps / sizeof allowed_steps[0]; i++)
        if (0.5 * allowed_steps[i] * per_dm <= dt) best = allowed_steps[i];
    return best;
}

int ddplan_make(const ddplan_params *p, ddplan *plan, char *err)
{
    memset(plan, 0, sizeof *plan);
    if (!(p->hidm > p->lodm) || p->lodm < 0 || p->tsamp <= 0 || p->bw <= 0 || p->nchan < 1 ||
        p->fctr <= p->bw / 2) {
        snprintf(err, 256,
                 "ddplan: invalid inputs (DM %g..%g, tsamp %g s, fctr %g MHz, bw %g MHz, "
                 "%d channels)",
                 p->lodm, p->hidm, p->tsamp, p->fctr, p->bw, p->nchan);
        return -1;
    }
    int nsub = p->nsub;
    if (nsub <= 0)
        nsub = p->nchan >= 1024 ? 128 : p->nchan >= 256 ? 32 : p->nchan >= 32 ? 16 : p->nchan;
    if (nsub > p->nchan) nsub = p->nchan;
    while (p->nchan % nsub)
        nsub--; /* equal-sized subbands */
    plan->nsub = nsub;
    double ff = p->ff > 0 ? p->ff : 1.0;
    int maxds = p->max_downsamp > 0 ? p->max_downsamp : 64;
    double flo = p->fctr - p->bw / 2, fhi = p->fctr + p->bw / 2;
    double chan_bw = p->bw / p->nchan, sub_bw = p->bw / nsub;
    /* Delay per unit DM across the lowest (worst) subband. */
    double sub_per_dm =
        DISPERSION_K * (1.0 / (flo * flo) - 1.0 / ((flo + sub_bw) * (flo + sub_bw)));
    double dm = p->lodm;
    int ds = 1;
    while (dm < p->hidm - 1e-9) {
        if (plan->nsteps == DDPLAN_MAX_STEPS) {
            snprintf(err, 256, "ddplan: more than %d steps needed", DDPLAN_MAX_STEPS);
            return -1;
        }
        double dt = p->tsamp * ds;
        /* DM where channel smearing reaches 2 dt (the next step's sample). */
        double dm_end = 2.0 * dt * ff / dispersion_channel_smear(1.0, p->fctr, chan_bw);
        if (dm_end <= dm + 1e-9 && ds < maxds) {
            ds *= 2;
            continue;
        }
        if (ds >= maxds || dm_end > p->hidm) dm_end = p->hidm;
        ddplan_step *s = &plan->step[plan->nsteps++];
        s->lodm = dm;
        s->downsamp = ds;
        s->ddm = ddplan_dm_step(dt * ff, flo, fhi);
        s->ndm = (int)ceil((dm_end - dm) / s->ddm - 1e-9);
        if (s->ndm < 1) s->ndm = 1;
        /* Half a pass of DM error across one subband must stay within dt. */
        int dpp = (int)floor(2.0 * dt * ff / (sub_per_dm * s->ddm));
        if (dpp < 1) dpp = 1;
        if (nsub == p->nchan) dpp = s->ndm; /* no subband error at all */
        if (dpp > s->ndm) dpp = s->ndm;
        s->dms_per_pass = dpp;
        double top = dm + s->ndm * s->ddm;
        double t_ch = dispersion_channel_smear(top, p->fctr, chan_bw);
        double t_step = 0.5 * s->ddm * DISPERSION_K * (1.0 / (flo * flo) - 1.0 / (fhi * fhi));
        double t_sub = nsub == p->nchan ? 0.0 : 0.5 * dpp * s->ddm * sub_per_dm;
        s->smear_ms = 1e3 * sqrt(dt * dt + t_ch * t_ch + t_step * t_step + t_sub * t_sub);
        plan->total_dms += s->ndm;
        dm = top;
        if (ds < maxds) ds *= 2;
    }
    return 0;
}

double ddplan_dm(const ddplan *plan, int i, int *step_out)
{
    for (int s = 0; s < plan->nsteps; s++) {
        if (i < plan->step[s].ndm) {
            if (step_out) *step_out = s;
            return plan->step[s].lodm + i * plan->step[s].ddm;
        }
        i -= plan->step[s].ndm;
    }
    if (step_out) *step_out = -1;
    return -1.0;
}

void ddplan_write(const ddplan *plan, FILE *fp)
{
    fprintf(fp, "# presto-search DM plan v1: %d trials, %d subbands\n", plan->total_dms,
            plan->nsub);
    fprintf(fp, "# %9s %9s %8s %6s %6s %10s\n", "lodm", "ddm", "ndm", "downsamp", "dms/pass",
            "smear_ms");
    for (int s = 0; s < plan->nsteps; s++) {
        const ddplan_step *st = &plan->step[s];
        fprintf(fp, "  %9.3f %9.3f %8d %6d %6d %10.3f\n", st->lodm, st->ddm, st->ndm, st->downsamp,
                st->dms_per_pass, st->smear_ms);
    }
}

int ddplan_read(ddplan *plan, FILE *fp, char *err)
{
    memset(plan, 0, sizeof *plan);
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (sscanf(line, "# presto-search DM plan v1: %*d trials, %d subbands", &plan->nsub) == 1)
            continue;
        if (line[0] == '#') continue;
        ddplan_step st;
        if (sscanf(line, "%lf %lf %d %d %d %lf", &st.lodm, &st.ddm, &st.ndm, &st.downsamp,
                   &st.dms_per_pass, &st.smear_ms) == 6) {
            if (plan->nsteps == DDPLAN_MAX_STEPS || st.ndm < 1 || st.downsamp < 1 || st.ddm <= 0 ||
                st.dms_per_pass < 1) {
                snprintf(err, 256, "DM plan: bad step line: %.200s", line);
                return -1;
            }
            plan->step[plan->nsteps++] = st;
            plan->total_dms += st.ndm;
        }
    }
    if (plan->nsteps == 0 || plan->nsub < 1) {
        snprintf(err, 256, "DM plan: no steps or no subband count found");
        return -1;
    }
    return 0;
}
