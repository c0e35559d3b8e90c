import { describe, expect, it } from 'vitest';
import { chooseSwapCopyMode } from '../src/swap-copy-mode.js';

describe('chooseSwapCopyMode', () => {
  it('COPYs several files at once, no more than files, cores and parallel allow', () => {
    expect(chooseSwapCopyMode({ files: 4, cores: 2, parallel: 3, explicit: false })).toEqual({
      mode: 'parallel',
      connections: 2,
    });
    expect(chooseSwapCopyMode({ files: 2, cores: 8, parallel: 3, explicit: false })).toEqual({
      mode: 'parallel',
      connections: 2,
    });
    expect(chooseSwapCopyMode({ files: 9, cores: 8, parallel: 3, explicit: false })).toEqual({
      mode: 'parallel',
      connections: 3,
    });
  });

  it('keeps FREEZE on one connection for one file, one core, or parallel 1', () => {
    expect(chooseSwapCopyMode({ files: 1, cores: 8, parallel: 3, explicit: false })).toEqual({
      mode: 'freeze',
    });
    expect(chooseSwapCopyMode({ files: 4, cores: 1, parallel: 3, explicit: false })).toEqual({
      mode: 'freeze',
    });
    expect(chooseSwapCopyMode({ files: 4, cores: 8, parallel: 1, explicit: true })).toEqual({
      mode: 'freeze',
    });
  });

  it('an explicit parallel wins over the core count', () => {
    expect(chooseSwapCopyMode({ files: 4, cores: 1, parallel: 2, explicit: true })).toEqual({
      mode: 'parallel',
      connections: 2,
    });
  });
});
