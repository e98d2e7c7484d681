// "Versions in Debian": the arm64 Xen versions Debian's archive offers, asked for only when the user presses the button.
import { useState } from 'react';
import type { XenVersionOffer } from '../../../shared/api/parts';
import type { BoardId } from '../../../shared/boards';
import type { ImagerErrorData } from '../../../shared/errors';
import { xenOfferMeaning } from '../../../shared/xen-versions';
import { xenVersionsInDebian } from '../actions';
import { asErrorData, ErrorNotice } from './ErrorNotice';

interface XenOffersPanelProps {
  board: BoardId;
  chosen: string;
  onChoose: (version: string) => void;
}

export function XenOffersPanel({ board, chosen, onChoose }: XenOffersPanelProps) {
  const [offers, setOffers] = useState<XenVersionOffer[] | undefined>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ImagerErrorData | undefined>();

  const load = () => {
    setLoading(true);
    setError(undefined);
    xenVersionsInDebian()
      .then(setOffers, (reason: unknown) => setError(asErrorData(reason)))
      .finally(() => setLoading(false));
  };

  return (
    <section aria-labelledby="xen-offers-title" className="card xen-offers" aria-busy={loading}>
      <h3 id="xen-offers-title">Versions in Debian</h3>
      <p className="field-hint card-intro">
        Which Xen releases Debian’s archive has for arm64, and what each means on this board. Reads Debian’s package lists over the network,
        so only when you ask.
      </p>
      <div className="row">
        <button type="button" className="secondary" onClick={load} disabled={loading} data-testid="xen-offers-load">
          {offers ? 'Look again' : 'Look up the versions in Debian'}
        </button>
        {loading && (
          <span className="busy" role="status">
            Reading Debian’s package lists…
          </span>
        )}
      </div>
      {error && <ErrorNotice error={error} />}
      {offers && offers.length === 0 && <p className="notice warn">Debian’s archive offers no xen-hypervisor package for arm64.</p>}
      {offers && offers.length > 0 && (
        <ul className="offer-list" data-testid="xen-offers">
          {offers.map((offer) => {
            const meaning = xenOfferMeaning(offer.version, board);
            return (
              <li key={offer.version}>
                <div className="row">
                  <strong>Xen {offer.version}</strong>
                  <span className="meta">
                    {offer.package} {offer.packageVersion} · in {offer.suites.join(', ')}
                  </span>
                  <span className="header-spacer" />
                  {offer.version === chosen ? (
                    <span className="ok">Chosen</span>
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      disabled={meaning.severity === 'error'}
                      onClick={() => onChoose(offer.version)}
                      aria-label={`Use Xen ${offer.version}`}
                    >
                      Use
                    </button>
                  )}
                </div>
                <p className={meaning.severity === 'ok' ? 'field-hint' : `field-problem ${meaning.severity}`}>{meaning.message}</p>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
