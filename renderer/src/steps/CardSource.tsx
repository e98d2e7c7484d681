// On the Target step: what the card starts from — a fresh card the app builds, or Raspberry Pi OS or another base image.
import { useRef, useState } from 'react';
import { isFreshCard } from '../../../shared/boot/generate';
import { PathField } from '../components/PathField';
import type { StepProps } from '../wizard/step-props';

/** Whether the card is built from nothing, and the choice's controls; the choice stays until the user picks again. */
export function useCardSource({ wizard }: Pick<StepProps, 'wizard'>) {
  const { draft, path } = wizard.state;
  // a fresh card is possible where the Raspberry Pi firmware starts U-Boot (the Pi 4), on the Xen path only
  const freshPossible = path === 'xen' && isFreshCard({ ...draft, baseImage: undefined });
  // "a base image" chosen but its path not typed yet: the choice stays until the user picks again
  const [baseChosen, setBaseChosen] = useState(false);
  const lastBase = useRef(draft.baseImage ?? '');
  const fresh = freshPossible && !baseChosen && draft.baseImage === undefined;
  const setBaseImage = (value: string) => {
    lastBase.current = value;
    wizard.edit((d) => ({ ...d, baseImage: value.trim() ? value : undefined }));
  };
  const chooseFresh = () => {
    setBaseChosen(false);
    wizard.edit((d) => ({ ...d, baseImage: undefined }));
  };
  const chooseBase = () => {
    setBaseChosen(true);
    if (lastBase.current.trim()) setBaseImage(lastBase.current);
  };
  return { freshPossible, fresh, setBaseImage, chooseFresh, chooseBase };
}

export type CardSource = ReturnType<typeof useCardSource>;

export function CardSourceChoice({ wizard, validation, source }: Pick<StepProps, 'wizard' | 'validation'> & { source: CardSource }) {
  const { draft } = wizard.state;
  const { freshPossible, fresh, setBaseImage, chooseFresh, chooseBase } = source;
  return (
    <fieldset>
      <legend>The card starts from</legend>
      {freshPossible && (
        <label className="choice">
          <input type="radio" name="card-source" checked={fresh} onChange={chooseFresh} data-testid="source-fresh" />
          <span>
            A fresh card (no base image)
            <small>
              The app builds the whole card: a partition table and one FAT32 boot partition holding the firmware, config.txt, U-Boot, the
              boot scripts{draft.boot.mode === 'sd' ? ' and every component' : ''}. Nothing to download; written in seconds.
            </small>
          </span>
        </label>
      )}
      <label className="choice">
        <input type="radio" name="card-source" checked={!fresh} onChange={chooseBase} data-testid="source-base" />
        <span>
          {freshPossible ? 'Raspberry Pi OS, or another base image' : 'A base image'}
          <small>
            {freshPossible
              ? 'The image’s partitions stay; its config.txt gets the lines Xen needs, and U-Boot and the boot scripts go on its boot partition. Choose this for Raspberry Pi OS’s userspace on the card.'
              : 'A disk image whose partitions the card keeps; the boot files go on its first partition.'}
          </small>
        </span>
      </label>
      {!fresh && (
        <PathField
          label="Base image"
          value={draft.baseImage ?? ''}
          want="file"
          extensions={['img', 'xz', 'gz', 'zip']}
          testId="target-base-image"
          placeholder="/home/me/raspios-bookworm-arm64-lite.img.xz"
          hint="A local .img, .img.xz, .img.gz or .zip, or an http(s) URL."
          problem={validation.at('$.baseImage')}
          onChange={setBaseImage}
        />
      )}
    </fieldset>
  );
}
