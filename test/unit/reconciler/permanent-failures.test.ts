import t from 'tap';
import { permanentFailures } from '../../../reconciler/reconcile.ts';

const condition = (type: string, status: string, reason: string) => ({ type, status, reason });

t.test('counts failed-for-good ExposedAPIs by reason; waiting, retrying and ready ones are not failures', async (t) => {
  const objects = [
    { status: { conditions: [condition('Published', 'False', 'ApimRejected')] } },
    { status: { conditions: [condition('Published', 'False', 'ApimRejected')] } },
    { status: { conditions: [condition('Ready', 'False', 'InvalidSpecification')] } },
    { status: { conditions: [condition('Published', 'False', 'RetryingAfterError')], retry: { attempts: 2 } } },
    { status: { conditions: [condition('Published', 'False', 'WaitingForIngressAddress')] } },
    {
      status: {
        conditions: [condition('InMeshOnly', 'True', 'InMeshOnly'), condition('Ready', 'False', 'NoReadyEndpoints')],
      },
    },
    { status: { conditions: [condition('Published', 'True', 'Published')] } },
    {},
  ];
  t.same(permanentFailures(objects), { ApimRejected: 2, InvalidSpecification: 1 });
});
