// Step 1: choose the path — Xen with U-Boot (from a saved profile or a default), or a ready-made image to flash as it is.
import { TextField } from '../components/Field';
import { PathField } from '../components/PathField';
import type { StepProps } from '../wizard/step-props';
import { OpenConsoleButton } from '../console/OpenConsoleButton';
import { ProfileLibrary } from './ProfileLibrary';

export function StartStep(props: StepProps) {
  const { state, setPath, setReadyImage } = props.wizard;
  return (
    <div>
      <p className="row">
        Card already written? Watch the Pi boot: <OpenConsoleButton baud={state.draft.console.baud} testId="start-open-console" />
      </p>
      <fieldset>
        <legend>What do you want to do?</legend>
        <label className="choice">
          <input type="radio" name="path" checked={state.path === 'xen'} onChange={() => setPath('xen')} />
          <span>
            Set up Xen with U-Boot
            <small>Build the whole boot chain: config.txt, U-Boot, the two boot scripts, Xen, Dom0 — on the card or over TFTP.</small>
          </span>
        </label>
        <label className="choice">
          <input type="radio" name="path" checked={state.path === 'image'} onChange={() => setPath('image')} />
          <span>
            Flash a ready-made image
            <small>Write an image that already contains Xen, such as Project EVE’s live.raw for the Raspberry Pi 4, as it is.</small>
          </span>
        </label>
      </fieldset>

      {state.path === 'image' ? (
        <div>
          <PathField
            label="Image file or URL"
            value={state.readyImage.path}
            want="file"
            extensions={['img', 'raw', 'xz', 'gz', 'zip']}
            placeholder="/home/me/Downloads/live.raw"
            hint="A .img, .raw, .img.xz, .img.gz or .zip file on this computer, or an http(s) URL."
            testId="ready-image"
            onChange={(path) => setReadyImage({ ...state.readyImage, path })}
          />
          <TextField
            label="SHA-256 (optional)"
            value={state.readyImage.sha256}
            hint="When given, the image is checked against it before anything is written."
            problem={
              state.readyImage.sha256 && !/^[0-9a-fA-F]{64}$/.test(state.readyImage.sha256)
                ? { severity: 'error', message: 'A SHA-256 is 64 hexadecimal digits.' }
                : undefined
            }
            monospace
            onChange={(sha256) => setReadyImage({ ...state.readyImage, sha256: sha256.trim() })}
          />
        </div>
      ) : (
        <ProfileLibrary {...props} />
      )}
    </div>
  );
}
