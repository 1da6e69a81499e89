import { beforeAll, describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { startTestBackend } from './state-test-support.ts';
import { ProjectSettingsSchema } from '../../src-shared/api/projects.ts';
import { DIA_FRAMES_PER_SECOND } from '../../src-shared/render-defaults.ts';
import { startApp } from './app.svelte.ts';
import { project } from './project.svelte.ts';
import { createProject } from './projects.svelte.ts';
import {
  applyPassSeconds, applySetting, openSettingsForm, PASS_SECONDS, resetSettingsForm, settingsErrors, settingsForm, stepsToSeconds,
} from './settings.svelte.ts';

beforeAll(async () => {
  await startTestBackend();
  await startApp();
});

describe('Longest pass, in seconds', () => {
  it('accepts every value up to the maximum it shows, which is the longest pass the model allows', () => {
    expect(PASS_SECONDS.max).toBe(Number(stepsToSeconds(3072)));
    expect(applyPassSeconds(PASS_SECONDS.max)).toBeNull();
    expect(project.settings!.sampling.maxTokens).toBe(3072);
    expect(stepsToSeconds(project.settings!.sampling.maxTokens)).toBe(PASS_SECONDS.max.toFixed(1));
    expect(applyPassSeconds(PASS_SECONDS.min)).toBeNull();
    expect(project.settings!.sampling.maxTokens).toBe(Math.round(PASS_SECONDS.min * DIA_FRAMES_PER_SECOND));
    expect(applyPassSeconds(10)).toBeNull();
    expect(project.settings!.sampling.maxTokens).toBe(861);
    // The bounds are the schema's, in decoder steps.
    const withSteps = (maxTokens: number) => v.safeParse(ProjectSettingsSchema, { ...project.settings, sampling: { ...project.settings!.sampling, maxTokens } }).success;
    expect([withSteps(3072), withSteps(3073), withSteps(16), withSteps(15)]).toEqual([true, false, true, false]);
  });

  it('words a value out of range in seconds, not decoder steps', () => {
    expect(applyPassSeconds(40)).toBe(`must be ${PASS_SECONDS.min} to ${PASS_SECONDS.max} seconds`);
    expect(applyPassSeconds(0.1)).toBe(`must be ${PASS_SECONDS.min} to ${PASS_SECONDS.max} seconds`);
    expect(applyPassSeconds(Number.NaN)).toBe(`needs a number of seconds, ${PASS_SECONDS.min} to ${PASS_SECONDS.max}`);
    expect(settingsErrors()).toEqual({ 'Longest pass': `needs a number of seconds, ${PASS_SECONDS.min} to ${PASS_SECONDS.max}` });
    expect(project.settings!.sampling.maxTokens).toBe(861);
  });
});

describe('the settings form', () => {
  it('clears its errors and shows the saved values again after Reset to defaults', () => {
    expect(applySetting('Guidance scale', (s) => ({ ...s, sampling: { ...s.sampling, guidanceScale: 50 } }))).toMatch(/<=20/);
    expect(Object.keys(settingsErrors())).toContain('Guidance scale');
    const revision = settingsForm.revision;
    resetSettingsForm();
    expect(settingsErrors()).toEqual({});
    expect(project.settings!.sampling.guidanceScale).toBe(3);
    // The fields are made anew, so none keeps showing a value that was refused.
    expect(settingsForm.revision).toBeGreaterThan(revision);
  });

  it('shows the saved values afresh when opened again, and no errors of another project', async () => {
    applySetting('Top-k', (s) => ({ ...s, sampling: { ...s.sampling, topK: 2.5 } }));
    expect(Object.keys(settingsErrors())).toEqual(['Top-k']);
    expect(await createProject('Another')).toBe(true);
    expect(settingsErrors()).toEqual({});
    applySetting('Top-k', (s) => ({ ...s, sampling: { ...s.sampling, topK: 2.5 } }));
    const revision = settingsForm.revision;
    openSettingsForm();
    expect(settingsErrors()).toEqual({});
    expect(settingsForm.revision).toBeGreaterThan(revision);
  });
});
