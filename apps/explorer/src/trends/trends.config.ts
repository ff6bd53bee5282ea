import { z } from 'zod';
import { SEGMENTS } from '../lead-time.segments.js';
import { DEFAULT_DETECT } from './trends.detect.js';

const d = DEFAULT_DETECT;

/** An objective for one segment: for every area and site, or for one area, or for one site. */
const objective = z
  .strictObject({
    segment: z.enum(SEGMENTS),
    area: z.string().min(1).optional(),
    site: z.string().min(1).optional(),
    /** Most changes that should wait in the segment at once. */
    queue: z.number().int().min(1).optional(),
    /** Longest p90 time in the segment, in seconds. */
    waitSeconds: z.number().positive().optional(),
  })
  .refine((o) => o.queue !== undefined || o.waitSeconds !== undefined, { message: 'give queue, waitSeconds or both' })
  .refine((o) => o.area === undefined || o.site === undefined, { message: 'an objective is for an area or for a site, not both' });

/** The `trends` section of the explorer's configuration; every field has a default. */
export const trendsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** How often the journeys changed since the last round are read and the findings recomputed. */
    intervalSeconds: z.number().int().min(10).max(86_400).default(300),
    /**
     * A round that finds no journey written since the last one keeps the findings (their gauges still age);
     * they are judged again at least this often all the same, as time alone moves them (stuck changes, forecasts).
     */
    refreshSeconds: z.number().int().min(10).max(86_400).default(900),
    /** Most journeys read per round (the rest follow in the next rounds). */
    maxJourneysPerRound: z.number().int().min(100).max(1_000_000).default(20_000),
    /** Most journeys held in memory; past it the oldest go first. */
    maxJourneys: z.number().int().min(100).max(5_000_000).default(200_000),
    /** The stage at which a change is delivered (its last segment ends there). */
    until: z.enum(['promotion', 'deployment', 'release']).default('release'),
    historyDays: z.number().int().min(7).max(180).default(d.historyDays),
    recentHours: z.number().min(1).max(72).default(d.recentHours),
    anomalyScore: z.number().min(2).max(20).default(d.anomalyScore),
    failureScore: z.number().min(2).max(20).default(d.failureScore),
    trendDays: z.number().int().min(2).max(60).default(d.trendDays),
    trendP: z.number().gt(0).max(0.2).default(d.trendP),
    trendMinChange: z.number().min(0).max(10).default(d.trendMinChange),
    trendMinLevel: z.number().min(0).max(10).default(d.trendMinLevel),
    forecastDays: z.number().int().min(4).max(60).default(d.forecastDays),
    horizonDays: z.number().min(0.25).max(60).default(d.horizonDays),
    quietFraction: z.number().min(0).max(1).default(d.quietFraction),
    stuckQuantile: z.number().min(0.5).max(0.9999).default(d.stuckQuantile),
    stuckMargin: z.number().min(1).max(10).default(d.stuckMargin),
    minSamples: z.number().int().min(5).max(100_000).default(d.minSamples),
    openLimitDays: z.number().min(1).max(180).default(d.openLimitDays),
    /** The teams' clock for working hours and weekends (UTC+N). */
    utcOffsetHours: z.number().min(-12).max(14).default(d.utcOffsetHours),
    objectives: z.array(objective).default([]),
    /**
     * Subscriptions on findings (condition \`insight\`): a finding missing from the rounds for longer than
     * this ends its episode, and fires again when it comes back; shorter absences are the same episode.
     */
    episodeGapHours: z.number().min(0.01).max(720).default(6),
  })
  .refine((t) => t.episodeGapHours * 3600 >= 2 * t.intervalSeconds, {
    message: 'episodeGapHours must span at least two rounds (2 × intervalSeconds)',
    path: ['episodeGapHours'],
  })
  .prefault({});

export type TrendsConfig = z.output<typeof trendsConfigSchema>;
